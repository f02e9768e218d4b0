// An agent names the codes of `TokenRequestError` without importing AgentAuthCore.
@_exported public import struct AgentAuthCore.OAuthErrorCode
