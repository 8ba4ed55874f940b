// Starts Swagger UI on /docs (app/web/docs.py). A file of its own, not an inline script, so the
// page needs no 'unsafe-inline' in its Content-Security-Policy.
window.ui = window.SwaggerUIBundle({
  url: document.getElementById("swagger-ui").dataset.openapiUrl,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIBundle.SwaggerUIStandalonePreset],
});
