-- The whole schema of renewbot: Postgres is the system of record (DESIGN.md,
-- "State: who owns what"). Ids are bigint identities, times are timestamptz.

-- +goose Up

-- Customers of the certificate authority. phone is normalized by
-- flows.NormalizePhone (0912345678); its uniqueness is deferrable so that an
-- import may swap two customers' phones inside one transaction.
CREATE TABLE customers (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code          text NOT NULL CONSTRAINT customers_code_key UNIQUE CHECK (code <> ''),
    name          text NOT NULL CHECK (name <> ''),
    phone         text CONSTRAINT customers_phone_key UNIQUE DEFERRABLE INITIALLY IMMEDIATE
                       CHECK (phone ~ '^0[35789][0-9]{8}$'),
    email         text NOT NULL DEFAULT '',
    id_number     text NOT NULL DEFAULT '',
    tax_code      text NOT NULL DEFAULT '',
    address       text NOT NULL DEFAULT '',
    sales_rep     text NOT NULL DEFAULT '',
    reminders_off boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- A Telegram private chat linked to a customer (one customer may have several).
CREATE TABLE telegram_links (
    chat_id     bigint PRIMARY KEY,
    user_id     bigint NOT NULL,
    customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    lang        text NOT NULL DEFAULT '',
    active      boolean NOT NULL DEFAULT true,
    linked_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX telegram_links_customer_idx ON telegram_links (customer_id);

-- Certificates (chứng thư số).
CREATE TABLE certificates (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    serial      text NOT NULL CONSTRAINT certificates_serial_key UNIQUE CHECK (serial <> ''),
    customer_id bigint NOT NULL REFERENCES customers (id),
    type        text NOT NULL
                CHECK (type IN ('individual', 'organization', 'member_manager', 'member_employee')),
    subject     text NOT NULL DEFAULT '',
    not_before  timestamptz NOT NULL,
    not_after   timestamptz NOT NULL,
    CONSTRAINT certificates_period_check CHECK (not_after > not_before),
    -- target of the orders (certificate_id, customer_id) foreign key
    CONSTRAINT certificates_id_customer_key UNIQUE (id, customer_id)
);
CREATE INDEX certificates_customer_idx ON certificates (customer_id, not_after);
-- the reminder sweep walks certificates by expiry
CREATE INDEX certificates_not_after_idx ON certificates (not_after);

-- The price list (gói sản phẩm).
CREATE TABLE packages (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code      text NOT NULL CONSTRAINT packages_code_key UNIQUE CHECK (code <> ''),
    cert_type text NOT NULL
              CHECK (cert_type IN ('individual', 'organization', 'member_manager', 'member_employee')),
    name      text NOT NULL CHECK (name <> ''),
    months    integer NOT NULL CHECK (months > 0),
    price_vnd bigint NOT NULL CHECK (price_vnd >= 0),
    active    boolean NOT NULL DEFAULT true
);
CREATE INDEX packages_type_idx ON packages (cert_type, months) WHERE active;

-- Discount and referral codes. valid_until is exclusive; 0 in max_uses and
-- per_customer means unlimited; empty arrays mean "every type / package".
CREATE TABLE promo_codes (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code           text NOT NULL CONSTRAINT promo_codes_code_key UNIQUE
                   CHECK (code ~ '^[A-Z0-9_-]+$'),
    kind           text NOT NULL CHECK (kind IN ('discount', 'referral')),
    percent_off    integer NOT NULL DEFAULT 0 CHECK (percent_off BETWEEN 0 AND 100),
    amount_off_vnd bigint NOT NULL DEFAULT 0 CHECK (amount_off_vnd >= 0),
    valid_from     timestamptz NOT NULL,
    valid_until    timestamptz NOT NULL,
    max_uses       integer NOT NULL DEFAULT 0 CHECK (max_uses >= 0),
    per_customer   integer NOT NULL DEFAULT 0 CHECK (per_customer >= 0),
    used           integer NOT NULL DEFAULT 0 CHECK (used >= 0),
    cert_types     text[] NOT NULL DEFAULT '{}'
                   CHECK (cert_types <@ ARRAY['individual', 'organization', 'member_manager', 'member_employee']),
    package_codes  text[] NOT NULL DEFAULT '{}',
    CONSTRAINT promo_codes_one_discount_check CHECK ((percent_off > 0) <> (amount_off_vnd > 0)),
    CONSTRAINT promo_codes_period_check CHECK (valid_until > valid_from),
    CONSTRAINT promo_codes_used_limit_check CHECK (max_uses = 0 OR used <= max_uses)
);

-- Order references HD000123: a sequence, at least six digits.
CREATE SEQUENCE order_ref_seq;
-- +goose StatementBegin
CREATE FUNCTION order_ref(n bigint) RETURNS text
LANGUAGE sql IMMUTABLE STRICT
AS $$ SELECT 'HD' || lpad(n::text, greatest(6, length(n::text)), '0') $$;
-- +goose StatementEnd

-- Renewal orders. version is bumped by every update (compare-and-set).
-- confirmed_at is set when the order first reaches awaiting_payment, so a
-- later cancellation does not hide it as a source of inherited info.
CREATE TABLE orders (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref            text NOT NULL DEFAULT order_ref(nextval('order_ref_seq'))
                   CONSTRAINT orders_ref_key UNIQUE,
    customer_id    bigint NOT NULL REFERENCES customers (id),
    certificate_id bigint NOT NULL,
    package_id     bigint NOT NULL REFERENCES packages (id),
    status         text NOT NULL DEFAULT 'draft'
                   CHECK (status IN ('draft', 'awaiting_payment', 'paid', 'submitted',
                                     'approved', 'rejected', 'cancelled')),
    price_vnd      bigint NOT NULL CHECK (price_vnd >= 0),
    discount_vnd   bigint NOT NULL DEFAULT 0 CHECK (discount_vnd >= 0),
    total_vnd      bigint NOT NULL CHECK (total_vnd >= 0),
    promo_id       bigint REFERENCES promo_codes (id),
    promo_code     text NOT NULL DEFAULT '',
    subject        jsonb NOT NULL DEFAULT '{}',
    invoice        jsonb NOT NULL DEFAULT '{}',
    payment        jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    confirmed_at   timestamptz,
    paid_at        timestamptz,
    version        bigint NOT NULL DEFAULT 1,
    CONSTRAINT orders_total_check CHECK (total_vnd = price_vnd - discount_vnd),
    CONSTRAINT orders_certificate_fkey FOREIGN KEY (certificate_id, customer_id)
        REFERENCES certificates (id, customer_id)
);
-- A certificate has at most one order in progress.
CREATE UNIQUE INDEX orders_one_open_per_certificate ON orders (certificate_id)
    WHERE status IN ('draft', 'awaiting_payment', 'paid', 'submitted', 'rejected');
CREATE INDEX orders_customer_idx ON orders (customer_id, created_at DESC);
CREATE INDEX orders_status_idx ON orders (status, updated_at);

-- Who used which code on which order; inserted when the order is paid.
CREATE TABLE promo_redemptions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    promo_id    bigint NOT NULL REFERENCES promo_codes (id),
    order_id    bigint NOT NULL REFERENCES orders (id) CONSTRAINT promo_redemptions_order_key UNIQUE,
    customer_id bigint NOT NULL REFERENCES customers (id),
    redeemed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX promo_redemptions_promo_customer_idx ON promo_redemptions (promo_id, customer_id);

-- Every payment received, matched or not: money is never silently accepted.
CREATE TABLE payments (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider       text NOT NULL CHECK (provider <> ''),
    transaction_id text NOT NULL CHECK (transaction_id <> ''),
    order_ref      text NOT NULL DEFAULT '',
    order_id       bigint REFERENCES orders (id),
    amount_vnd     bigint NOT NULL CHECK (amount_vnd > 0),
    paid_at        timestamptz NOT NULL,
    status         text NOT NULL CHECK (status IN ('matched', 'underpaid', 'unmatched')),
    raw            text NOT NULL DEFAULT '',
    received_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payments_provider_transaction_key UNIQUE (provider, transaction_id)
);
CREATE INDEX payments_order_idx ON payments (order_id);
-- staff work list: payments that need a person
CREATE INDEX payments_attention_idx ON payments (received_at) WHERE status <> 'matched';

-- Renewal dossiers (hồ sơ gia hạn), one per order.
CREATE TABLE dossiers (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id           bigint NOT NULL REFERENCES orders (id) CONSTRAINT dossiers_order_key UNIQUE,
    method             text NOT NULL DEFAULT '' CHECK (method IN ('', 'otp', 'hand', 'digital')),
    status             text NOT NULL DEFAULT 'collecting'
                       CHECK (status IN ('collecting', 'submitted', 'approved', 'rejected')),
    signed_at          timestamptz,
    submitted_at       timestamptz,
    reject_reason      text NOT NULL DEFAULT '',
    paper_collected    boolean NOT NULL DEFAULT false,
    paper_collected_at timestamptz
);
-- staff review queue
CREATE INDEX dossiers_submitted_idx ON dossiers (submitted_at) WHERE status = 'submitted';

-- Uploaded files with their bytes (at most 20 MB each, Telegram's getFile limit).
CREATE TABLE dossier_files (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dossier_id       bigint NOT NULL REFERENCES dossiers (id) ON DELETE CASCADE,
    kind             text NOT NULL CHECK (kind IN ('photo', 'pdf')),
    file_name        text NOT NULL DEFAULT '',
    mime             text NOT NULL DEFAULT '',
    size             bigint NOT NULL CHECK (size BETWEEN 0 AND 20971520),
    sha256           text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    storage_key      text NOT NULL DEFAULT '',
    content          bytea NOT NULL,
    telegram_file_id text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dossier_files_dossier_idx ON dossier_files (dossier_id, id);

-- Staff decisions on dossiers.
CREATE TABLE reviews (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dossier_id bigint NOT NULL REFERENCES dossiers (id) ON DELETE CASCADE,
    staff_id   bigint NOT NULL,
    decision   text NOT NULL CHECK (decision IN ('approve', 'reject')),
    reason     text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reviews_reason_check CHECK (decision = 'approve' OR reason <> '')
);
CREATE INDEX reviews_dossier_idx ON reviews (dossier_id, created_at);

-- Reminders ledger: a row is claimed under its unique key before the message
-- is sent, so a reminder goes out at most once per certificate period and tier.
CREATE TABLE reminders (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    certificate_id   bigint NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
    period_not_after timestamptz NOT NULL,
    tier             text NOT NULL CHECK (tier <> ''),
    status           text NOT NULL DEFAULT 'claimed'
                     CHECK (status IN ('claimed', 'sent', 'undeliverable', 'skipped')),
    claimed_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    CONSTRAINT reminders_period_tier_key UNIQUE (certificate_id, period_not_after, tier)
);

-- Outgoing Telegram messages, delivered by the scheduler with retries.
CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chat_id         bigint NOT NULL,
    kind            text NOT NULL CHECK (kind <> ''),
    payload         jsonb NOT NULL DEFAULT '{}',
    idempotency_key text NOT NULL CONSTRAINT outbox_idempotency_key_key UNIQUE,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'blocked')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);

-- Staff broadcasts to a segment of linked chats.
CREATE TABLE broadcasts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_by  text NOT NULL,
    text        text NOT NULL CHECK (text <> ''),
    segment     jsonb NOT NULL DEFAULT '{}',
    status      text NOT NULL DEFAULT 'draft'
                CHECK (status IN ('draft', 'running', 'paused', 'cancelled', 'done')),
    total       integer NOT NULL DEFAULT 0,
    sent        integer NOT NULL DEFAULT 0,
    failed      integer NOT NULL DEFAULT 0,
    blocked     integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,
    finished_at timestamptz
);

CREATE TABLE broadcast_recipients (
    broadcast_id bigint NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
    chat_id      bigint NOT NULL,
    status       text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'sent', 'failed', 'blocked', 'skipped')),
    sent_at      timestamptz,
    last_error   text NOT NULL DEFAULT '',
    PRIMARY KEY (broadcast_id, chat_id)
);
CREATE INDEX broadcast_recipients_pending_idx ON broadcast_recipients (broadcast_id)
    WHERE status = 'pending';

-- Conversations handed to a person (seed "Cách 2").
CREATE TABLE handoffs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chat_id     bigint NOT NULL,
    customer_id bigint REFERENCES customers (id),
    reason      text NOT NULL DEFAULT '',
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'claimed', 'closed')),
    assignee    bigint, -- the agent's Telegram user id
    topic_id    bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    claimed_at  timestamptz,
    closed_at   timestamptz
);
-- a chat has at most one hand-off in progress
CREATE UNIQUE INDEX handoffs_one_live_per_chat ON handoffs (chat_id) WHERE status <> 'closed';
CREATE INDEX handoffs_open_idx ON handoffs (status, created_at) WHERE status <> 'closed';

-- Who did what, for staff and for disputes.
CREATE TABLE audit_log (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    actor   text NOT NULL,
    action  text NOT NULL,
    subject text NOT NULL DEFAULT '',
    detail  jsonb
);
CREATE INDEX audit_log_subject_idx ON audit_log (subject, at);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE handoffs;
DROP TABLE broadcast_recipients;
DROP TABLE broadcasts;
DROP TABLE outbox;
DROP TABLE reminders;
DROP TABLE reviews;
DROP TABLE dossier_files;
DROP TABLE dossiers;
DROP TABLE payments;
DROP TABLE promo_redemptions;
DROP TABLE orders;
DROP FUNCTION order_ref(bigint);
DROP SEQUENCE order_ref_seq;
DROP TABLE promo_codes;
DROP TABLE packages;
DROP TABLE certificates;
DROP TABLE telegram_links;
DROP TABLE customers;
