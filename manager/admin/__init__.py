"""Administration pages: catalog, counters, staff, devices and printers, rules.

Thin forms over server.office.

One blueprint, ``bp``, its pages in a module each; importing them registers their routes.
"""

from manager.admin import catalog_pages, people_pages, printer_pages, rules_pages
from manager.admin.forms import bp

__all__ = ["bp", "catalog_pages", "people_pages", "printer_pages", "rules_pages"]
