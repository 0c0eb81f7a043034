"""Reading a prepared database: the dashboard's queries, prompt agreement, positions on the values plane, the SQL
console. Everything returns Polars frames or plain values; nothing here writes."""
