pytest_plugins = ["aligned_testing.fixtures"]
