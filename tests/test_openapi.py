"""The OpenAPI document describes every HTTP route, and nothing else."""
import re


def _api_routes(app):
    routes = set()
    for route in app.http.routes:
        if route.rule.startswith("/api/") or route.rule == "/healthz":
            routes.add((re.sub(r"<(\w+)(:[^>]*)?>", r"{\1}", route.rule), route.method.lower()))
    return routes


def test_openapi_document_lists_exactly_the_routes_served(make_config):
    import webtest

    from imdemo.app import create_app
    app = create_app(make_config(inspect=True))  # with every optional route
    try:
        document = webtest.TestApp(app.wsgi).get("/api/openapi.json").json
    finally:
        app.close()
    assert document["openapi"].startswith("3.1")
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert documented == _api_routes(app)


def test_openapi_marks_public_routes_and_every_schema_reference_resolves(client):
    document = client.get("/api/openapi.json").json
    public = {p for p, ops in document["paths"].items() for op in ops.values() if op.get("security") == []}
    assert public == {"/api/register", "/api/login", "/api/config", "/healthz", "/api/openapi.json",
                      "/api/inspect/actions", "/api/inspect/state", "/api/inspect/connections"}
    refs = set(re.findall(r'"#/components/schemas/(\w+)"', client.get("/api/openapi.json").text))
    assert refs <= set(document["components"]["schemas"])
    for path in public - {"/api/register", "/api/login", "/api/inspect/actions", "/api/inspect/state",
                          "/api/inspect/connections"}:
        client.get(path, status=200)
