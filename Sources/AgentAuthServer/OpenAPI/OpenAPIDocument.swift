/// The OpenAPI 3.1 description of the auth server's HTTP API: every route, its parameters,
/// bodies, answers and errors. Its source is docs/openapi.json, edited by hand and embedded in
/// `OpenAPIDocument+json.swift` by `scripts/embed-openapi.sh`; a test fails when the two differ,
/// and another when a route of the router is missing from it or it names one the router lacks.
public enum OpenAPIDocument {}
