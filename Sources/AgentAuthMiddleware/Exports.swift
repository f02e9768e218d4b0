// What a resource server names besides this module's own types, so that it depends on the
// AgentAuthMiddleware product alone: the request context, the scope policy, the errors and
// limits shared with the auth server (in the internal AgentAuthHTTP target), and the Core
// types they are made of (among them the rate-limit and quota types, for a resource server that
// composes `RateLimitMiddleware` itself), and the observability set-up an executable bootstraps
// (`Observability`, docs/observability.md).
@_exported public import struct AgentAuthCore.AgentIdentity
@_exported public import struct AgentAuthCore.LimitDecision
@_exported public import struct AgentAuthCore.LimitSubject
@_exported public import class AgentAuthCore.LimitsState
@_exported public import struct AgentAuthCore.OAuthErrorCode
@_exported public import struct AgentAuthCore.Quota
@_exported public import struct AgentAuthCore.RateLimitTier
@_exported public import class AgentAuthCore.RateLimiter
@_exported public import class AgentAuthCore.RequestLimiter
@_exported public import struct AgentAuthCore.Scope
@_exported public import struct AgentAuthCore.ScopeSet
@_exported public import class AgentAuthCore.UsageCounter
@_exported public import struct AgentAuthHTTP.AgentAuthMetrics
@_exported public import struct AgentAuthHTTP.AgentAuthRequestContext
@_exported public import struct AgentAuthHTTP.ConnectionLimits
@_exported public import struct AgentAuthHTTP.InvalidConnectionLimits
@_exported public import struct AgentAuthHTTP.JSONErrorMiddleware
@_exported public import struct AgentAuthHTTP.JSONLogHandler
@_exported public import enum AgentAuthHTTP.LogFormat
@_exported public import struct AgentAuthHTTP.OAuthError
@_exported public import struct AgentAuthHTTP.Observability
@_exported public import struct AgentAuthHTTP.RequestLimitsMiddleware
@_exported public import struct AgentAuthHTTP.RequestObservationMiddleware
@_exported public import struct AgentAuthHTTP.RequireScope
@_exported public import struct AgentAuthHTTP.ServerTLS
@_exported public import struct AgentAuthHTTP.ServerTLSError
@_exported public import class AgentAuthHTTP.ShutdownDrain
