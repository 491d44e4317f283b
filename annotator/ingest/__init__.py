"""One import path: files read by any format become contents.Incoming (pipeline), are merged
with what is stored (merging, existing) and stored in one place (store, bulk, suggestion_rows);
first_use settles tokens and language later, resuggest refreshes suggestions, skipped lists
the files a folder import leaves out."""
