"""Pure helpers every layer shares (storage, the runtime, the features): no I/O, no chat, no database."""
