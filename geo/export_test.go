package geo

// CollapseSpaces is collapseSpaces for the external tests.
var CollapseSpaces = collapseSpaces
