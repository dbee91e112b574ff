import WeightScopeCommands
import WeightScopeCore

// A short-lived process: freed memory stays in the heap, and readers may have the heap made
// ready for a large listing on another core.
HeapReserve.enable()

WeightScopeCommand.mainExit()
