// The API's documentation at /api/docs: Swagger UI showing /api/openapi.json. It reads the
// document and tries requests with the dashboard's superuser token when there is one (a superuser
// then sees the whole API); otherwise as a guest, or with the token given to "Authorize".
import SwaggerUIBundle from 'swagger-ui-dist/swagger-ui-bundle.js';
import 'swagger-ui-dist/swagger-ui.css';

const superuserToken = () => {
  try {
    return JSON.parse(localStorage.getItem('kiln_superuser_auth') ?? 'null')?.token ?? '';
  } catch {
    return '';
  }
};

SwaggerUIBundle({
  url: '/api/openapi.json',
  dom_id: '#api',
  deepLinking: true,
  tryItOutEnabled: true,
  requestInterceptor: (req) => {
    const token = superuserToken();
    if (token && !req.headers.Authorization) req.headers.Authorization = token;
    return req;
  },
});
