// Placeholder: the benchmark harness (`make bench`) is being written.
print("usdt-bench: not yet implemented")
