from rl_cli.app import main

main()
