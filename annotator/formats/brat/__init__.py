"""brat standoff: reading a folder of .txt/.ann pairs into a layer (reader), writing a layer
back as such pairs (writer), and the .ann line grammar both share (lines)."""
