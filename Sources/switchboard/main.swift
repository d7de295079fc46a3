SwitchboardCommand.main()
