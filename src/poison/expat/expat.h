/* On the include path of every layer that may not use expat. */
#error "expat is for autoconfig documents: only src/discover/ may include it"
