// Starts Swagger UI on the page /docs serves. A file of its own (not an inline script), so the page's
// Content-Security-Policy can allow scripts from 'self' only. The document's URL, built by the pool from the
// request's mount prefix, is read from the container's data-openapi-url attribute.
(function () {
  "use strict";
  var container = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: container.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
  });
})();
