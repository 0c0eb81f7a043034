"""The command line, one module per command (``python -m analysis COMMAND``), each with configure(parser) and
run(args) -> exit code. Modules are imported only when their command runs."""
