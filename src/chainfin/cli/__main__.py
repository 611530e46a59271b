from chainfin.cli.main import main

main()
