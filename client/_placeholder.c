/* placeholder so the module configures; delete when real sources land */
typedef int client_placeholder;
