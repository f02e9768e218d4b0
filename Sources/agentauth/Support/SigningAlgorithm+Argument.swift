public import AgentAuthCore
public import ArgumentParser

extension SigningAlgorithm: ExpressibleByArgument {}
