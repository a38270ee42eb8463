"""The assessment pages (review question, forms, PROBAST domains, summary).

Each is built as ``Page(ctx)`` (domain pages: ``DomainPage(ctx, part_id, domain_id)``), exposes
``title`` and ``is_complete()``, reads the document and writes only through its methods.
"""
