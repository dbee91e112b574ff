import WeightScopeCommands

WeightScopeCommand.mainExit()
