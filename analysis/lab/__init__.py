"""The labs: candidate-sampling strategies and their diversity (simulated and on real texts), simulated annotator
populations, reward models and their recovery. Parameters are illustrative unless a user sets them."""
