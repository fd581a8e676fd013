from aligned_common.admin.cli import main

main()
