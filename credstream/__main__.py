from credstream.cli import main

main()
