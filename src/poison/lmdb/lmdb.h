/* On the include path of every layer that may not use LMDB. */
#error "<lmdb.h> is the store's: only src/store/ may include it"
