"""Entity IRIs: /id (303), /data documents and /page HTML, and what they contain."""
