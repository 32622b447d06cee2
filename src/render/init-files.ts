/**
 * What `rag init` writes: a commented rag.config.json (rag reads comments and trailing commas)
 * holding the defaults, so every knob is visible where it is changed, and a .ragignore.
 */
export function initConfigText(opts: { tenant: string }): string {
  return `// rag configuration (JSON with comments). Every key is optional; shown values are the defaults
// unless noted. Reference: README "Configuration". Validate with: rag status
{
  // Where the store lives: a folder, or s3://bucket/prefix. --db and $RAG_DB override it.
  "db": ".rag",

  // Files \`rag ingest FOLDER\` takes (globs relative to the folder ingested). .gitignore and
  // .ragignore files are honoured as well.
  "include": ["**/*"],
  "exclude": [],

  // Who may see what. Principals: public, user:NAME, group:NAME, role:NAME, service:NAME.
  // A document's own ACL (front matter "acl:", a record's ACL field) wins; else the first rule
  // whose glob matches its path; else the default.
  "acl": {
    "default": ["public"],
    "rules": [
      // { "match": "internal/**", "acl": ["group:staff"] }
    ]
  },
  "tenant": { "default": ${JSON.stringify(opts.tenant)} },

  // Chunk size in estimated tokens; headings start chunks, code and tables are never cut.
  "chunking": { "maxTokens": 256, "overlapTokens": 32, "hardMaxTokens": 512 },

  // The index \`rag index\` builds; "model" unset = the best embedding model present
  // (see \`rag models list\`), "none" = BM25 only.
  "index": { "name": "default" },

  // Search defaults for \`rag query\`, \`rag eval\` and the service.
  "retrieval": { "k": 10 },

  // Named callers: \`rag query --profile support "…"\`.
  "profiles": {
    // "support": { "as": ["group:support"] }
  }
}
`;
}

export const RAGIGNORE_TEXT = `# Files rag ingest skips (gitignore syntax). .git, node_modules and .rag are always skipped.
# Secrets and credentials never belong in a search index:
.env
.env.*
*.pem
*.key
id_rsa*
# Build output and dependencies:
dist/
build/
coverage/
vendor/
*.min.js
*.lock
package-lock.json
`;
