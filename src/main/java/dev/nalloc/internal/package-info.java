/**
 * Not API: helpers shared by nalloc's public packages (argument checks and messages, direct buffer
 * views, raw memory access for the fast path, the bridge to allocator handles). Public only so
 * that sibling packages can reach them; they may change in any release.
 */
package dev.nalloc.internal;
