/* placeholder so the module configures; delete when real sources land */
typedef int proxy_http_placeholder;
