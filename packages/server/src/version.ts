/** The service's version: the OpenAPI document's, and the webhook deliverer's User-Agent. */
export const VERSION = '0.1.0';
