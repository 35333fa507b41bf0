from actiondesk.bot.cli import main

main()
