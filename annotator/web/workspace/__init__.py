"""The annotation workspace: one document in one layer (the annotator's own, or gold).

routes (the blueprint), reads (the statements a page runs), views (text blocks and marks),
panel (the side panel), suggested (its pending suggested claims and relations), forms
(claim and relation forms), writes (every POST's answer).
"""
