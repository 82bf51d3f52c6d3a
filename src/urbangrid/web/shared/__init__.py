"""What the staff web and the collector's phone app both use: no views here.

`mobile` imports only this package (and `web.access`), never `web.views` or another view
module; the low layers (core, geo, catalog, workflow, cases) import nothing of `web`.

* `labels`: time lights and state labels;
* `widgets`: the fast select and the photo field;
* `paging`: keyset pages of case lists;
* `errors`: the one mapping of workflow errors onto a form;
* `operations`: operation forms built from the declared inputs of the workflow;
* `casepage`: a visible case (or 404) and what its page shows.
"""
