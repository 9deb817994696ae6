// docs.js - starts Swagger UI on this server's /openapi.json. A file of
// its own, not an inline script: the page's Content-Security-Policy allows
// scripts from this origin only.
window.addEventListener('load', () => {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    // no call to swagger.io's online validator: the page talks to this
    // server alone
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
