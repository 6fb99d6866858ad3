package ecrapi

// Each group registers its operations; the files of each group hold them.
// (Groups not yet implemented register nothing.)
