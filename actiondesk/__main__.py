from actiondesk.bot.cli.main import main

main()
