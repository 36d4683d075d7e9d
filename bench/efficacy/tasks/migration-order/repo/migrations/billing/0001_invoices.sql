ALTER TABLE core_accounts ADD COLUMN billing_plan TEXT NOT NULL DEFAULT 'free';
CREATE TABLE billing_invoices (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES core_accounts (id),
    cents INTEGER NOT NULL
);
