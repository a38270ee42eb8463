"""Evidence documents: the Evidence step, the side viewer, citing a document from an answer."""
