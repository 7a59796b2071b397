/* placeholder so the module configures; delete when real sources land */
typedef int lab_placeholder;
