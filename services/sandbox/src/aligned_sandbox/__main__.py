from aligned_sandbox.cli import main

main()
