"""GET /docs: Swagger UI (from the swagger-ui-bundle-v2 package, served by the service itself,
so the page works offline: no CDN) over GET /openapi.json, with "Try it out" on every call."""

from __future__ import annotations

from functools import cache
from pathlib import Path

STATIC_ROUTE = "/docs/static"


def static_dir() -> Path:
    from swagger_ui_bundle import swagger_ui_path

    return Path(swagger_ui_path)


@cache
def docs_page() -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Connector Service API</title>
  <link rel="stylesheet" href="{STATIC_ROUTE}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{STATIC_ROUTE}/swagger-ui-bundle.js"></script>
  <script src="{STATIC_ROUTE}/docs-init.js"></script>
</body>
</html>
"""


#: The page's own script, served beside Swagger UI's (a page with no inline script can run
#: under a Content-Security-Policy that forbids inline scripts).
INIT_SCRIPT = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: false,
  tryItOutEnabled: false,
  validatorUrl: null
});
"""
