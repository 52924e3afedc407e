-- Project documents move into the kit's document store (crm_documents, owner kind 'project'),
-- which every service's uploads share.
INSERT INTO crm_documents (id, owner_kind, owner_id, file_name, content_type, description, size_bytes, sha256, pieces, created_at, created_by)
    SELECT id, 'project', project_id, file_name, content_type, description, size_bytes, sha256, pieces, created_at, created_by
    FROM project_documents;
INSERT INTO crm_document_pieces (document_id, piece, data)
    SELECT document_id, piece, data FROM project_document_pieces;
DROP TABLE project_document_pieces;
DROP TABLE project_documents;
