-- Files kept with projects: what each is, and its bytes in pieces of at most 256 KiB (so a
-- download streams without holding the whole file).
CREATE TABLE project_documents (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    pieces BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX project_documents_by_project ON project_documents (project_id, created_at);
CREATE TABLE project_document_pieces (
    document_id TEXT NOT NULL,
    piece BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (document_id, piece)
);
