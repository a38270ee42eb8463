"""Evidence documents: the side viewer and citing a document from an answer (the Evidence
step itself is gui.pages.evidence_page)."""
