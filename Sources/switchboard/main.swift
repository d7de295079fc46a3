import ArgumentParser

SwitchboardCommand.main()
