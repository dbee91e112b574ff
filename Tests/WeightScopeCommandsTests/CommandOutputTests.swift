import Testing

@testable import WeightScopeCommands

@Suite struct CommandOutputTests {
  @Test func linesOfTextAndOfBytesKeepTheirOrder() {
    var output = CommandOutput()
    output.print(utf8: Array("{\"a\":1}".utf8))  // Adopted whole while nothing else is there.
    output.print("café")
    output.write("tail")
    output.print(utf8: Array("é".utf8))
    #expect(output.stdout == "{\"a\":1}\ncafé\ntailé\n")
    #expect(output.stdoutBytes.count == output.stdout.utf8.count)
    output.stdout = "reset\n"
    #expect(output.stdoutBytes == Array("reset\n".utf8))
  }
}
