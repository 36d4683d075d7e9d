CREATE TABLE core_accounts (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE
);
