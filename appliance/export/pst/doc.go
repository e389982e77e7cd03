// Package pst writes Outlook personal folders files in the Unicode format
// of [MS-PST], without Outlook: a store with folders, messages (with
// recipients and attachments), contacts and appointments.
//
// Words, as the specification uses them:
//
//   - NDB, the node database: the file is a header, allocation maps at fixed
//     places, blocks (data up to 8,176 bytes with a 16-byte trailer, aligned
//     to 64 bytes) and 512-byte pages. Two B-trees made of pages index it:
//     the block B-tree (BBT) maps a block ID (BID) to its offset and size,
//     the node B-tree (NBT) maps a node ID (NID) to the BID of its data, the
//     BID of its subnode tree and its parent's NID.
//   - Data tree: a node's data larger than one block is an XBLOCK listing
//     data blocks (an XXBLOCK listing XBLOCKs above 1,021 of them).
//   - Subnodes: nodes that belong to one node only (a message's recipient
//     and attachment tables, its attachments, values too large for its
//     heap), listed in an SLBLOCK (an SIBLOCK above 340 of them).
//   - LTP, the lists, tables and properties layer: a heap on a node (HN)
//     holds allocations addressed by heap IDs (HID); a B-tree on the heap
//     (BTH) sorts fixed-size records; a property context (PC) is a BTH of
//     properties; a table context (TC) is a heap with column descriptions,
//     a row matrix and a BTH from row ID to row index.
//   - Messaging: the message store node, the name-to-ID map of named
//     properties, the root folder, "Top of Personal Folders" (the IPM
//     subtree) under which the exported folders hang, each folder a PC with
//     hierarchy, contents and associated contents tables.
//
// Writer writes one file front to back: every block of a message is
// written when the message is added, so memory holds only the B-tree
// entries and one row per item for its folder's contents table. Folders'
// tables, the B-trees, the allocation maps and the header follow at Close.
// Blocks are stored without encoding (bCryptMethod NDB_CRYPT_NONE).
//
// What a file holds besides the exported folders: the root folder, "Top
// of Personal Folders" with "Deleted Items", "Search Root", the message
// store (display name, record key, entry IDs of the IPM subtree, the
// wastebasket and the finder, the support mask with STORE_UNICODE_OK),
// the name-to-ID map of the named properties used (e-mail addresses of
// contacts, appointment times, location, busy status), and empty table
// templates for hierarchy, contents, associated contents, attachment and
// recipient tables. The allocation maps (AMap, PMap, FMap, FPMap at their
// fixed intervals) and the density list are written for the file as laid
// out, with fAMapValid set.
//
// Not written: the search-related nodes (search management queue,
// activity list, gatherer queues and descriptors), the folder templates
// NID_NORMAL_FOLDER_TEMPLATE and NID_SEARCH_FOLDER_TEMPLATE, the search
// contents table template, RTF bodies, recurrence patterns of recurring
// appointments and embedded message objects (a message/rfc822 part is an
// attachment holding the message's bytes). The files are read back in
// tests with readpst (libpst) and pffexport (libpff); Outlook itself has
// not been run on them here.
//
// A Writer is not safe for concurrent use.
package pst
