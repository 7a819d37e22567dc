"""A segment writer for a rebuild: the same postings as Whoosh's, without its per-posting path.

Whoosh's ``SegmentWriter`` puts every posting of every document into a pool as a tuple, sorts the
pool when the segment is finished and hands it to the codec one posting at a time, looking up the
document's field length for each posting on the way; most of a rebuild's time went there.
``BulkSegmentWriter`` keeps each term's postings in one flat list as documents are added
(documents come in order, so each term's postings are already sorted by document), with each
posting's field length as Whoosh would read it back, and writes each term's blocks from slices of
that list. Lists of terms (what ``schema.writer_fields`` gives) are counted and their positions
encoded here, each distinct encoding once.

Two things differ from Whoosh's files, neither in what is read back: an encoded value shared by
several postings of a block is pickled once and referred to, and a block whose pickle is shorter
than ``COMPRESS_FROM`` bytes is stored without zlib (which only makes such a block longer; each
block records whether it is compressed, and Whoosh's reader honours it). With
``cached_positions = 0`` and ``compress_from = 0`` the files equal Whoosh's byte for byte
(``tests/test_search_bulk.py`` holds both). Everything is kept in memory until the segment is
finished: meant for a rebuild's share of the catalogue, not for an unbounded stream.
"""

from __future__ import annotations

import io
import zlib
from array import array
from pickle import dumps  # nosec B403  # writes Whoosh's own file format; nothing is unpickled here

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC
from whoosh.formats import Frequency, Positions
from whoosh.system import pack_uint, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

#: lists of positions this long or shorter have their encoding made once and shared
CACHED_POSITIONS = 4
#: blocks whose pickle is shorter than this are stored uncompressed
COMPRESS_FROM = 128


def terms_key(fieldname: str) -> str:
    """The keyword under which ``writer_fields`` may give a text field's terms with the position
    of the first, ``(terms, start)``, beside the text (Whoosh's writers ignore keywords that
    start with ``_``; ``BulkSegmentWriter`` indexes these instead of analysing the text)."""
    return f"_terms_{fieldname}"


class BulkSegmentWriter(SegmentWriter):
    """A ``SegmentWriter`` (same arguments) whose postings are kept per term in memory and
    written in one pass when the segment is finished; documents, stored fields, lengths and
    columns are written as ``SegmentWriter`` writes them.

    Supports the schemas and codec this project uses: fields without separate spelling or term
    vectors, Whoosh 3 postings never inlined.
    :raise ValueError: the schema or codec needs Whoosh's own writer.
    """

    #: see the module's docstring; both 0 give Whoosh's files byte for byte
    cached_positions = CACHED_POSITIONS
    compress_from = COMPRESS_FROM

    def __init__(self, ix, **kwargs) -> None:
        for name, field in ix.schema.items():
            if field.separate_spelling() or field.vector:
                raise ValueError(f"field {name!r} needs Whoosh's own writer")
        super().__init__(ix, **kwargs)
        if self.codec._inlinelimit > 1:  # Whoosh's default (1) never keeps postings inline
            raise ValueError("a codec that inlines postings needs Whoosh's own writer")
        # field name -> term bytes -> [document, weight, encoded value, field length, ...]
        self._postings: dict[str, dict[bytes, list]] = {}
        self._encoded: dict[object, bytes] = {}

    def add_document(self, **fields) -> None:
        """Add one document, with what ``SegmentWriter.add_document`` would give the codec."""
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields.get(fieldname)
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    fieldboost = self._field_boost(fields, fieldname, docboost)
                    terms = self._postings.get(fieldname)
                    if terms is None:
                        terms = self._postings[fieldname] = {}
                    given = fields.get(terms_key(fieldname))
                    if given is not None:
                        value, start = given
                    else:
                        start = 0
                    length = self._add_postings(terms, field, value, start, docnum, fieldboost)
                customval = fields.get(f"_stored_{fieldname}", fields[fieldname])
                sv = customval if field.stored else None
                perdocwriter.add_field(fieldname, field, sv, length)
                column = field.column_type
                if column and customval is not None:
                    cv = field.to_column_value(customval)
                    perdocwriter.add_column_value(fieldname, column, cv)
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def _add_postings(self, terms, field, value, start, docnum, fieldboost) -> int:
        """Add ``docnum``'s postings of ``value`` in ``field`` to ``terms``, each with the
        weight and encoded value ``field.index(value)`` gives; return the field's length (the
        number of terms if the field is scorable, else 0). A list of terms is taken as at
        positions ``start``, ``start + 1``…"""
        fmt = field.format
        if isinstance(value, list) and type(fmt) in (Positions, Frequency):
            length = len(value) if field.scorable else 0
            # Whoosh: the tokens' boosts (1.0 each) summed, times the format's boost
            items = [
                (text.encode("utf-8"), count, float(count) * fmt.field_boost, vbytes)
                for text, count, vbytes in self._counted(fmt, value, start)
            ]
        else:
            items = list(field.index(value))
            length = sum(item[1] for item in items) if field.scorable else 0
        read_back = byte_to_length(length_to_byte(length)) if length else 0
        for tbytes, _count, weight, vbytes in items:
            entry = (docnum, weight * fieldboost, vbytes, read_back)
            found = terms.get(tbytes)
            if found is None:
                terms[tbytes] = list(entry)
            else:
                found.extend(entry)
        return length

    def _counted(self, fmt, value: list[str], start: int) -> list[tuple[str, int, bytes]]:
        """(term, how many times, encoded value) of each distinct term of ``value``, a list of
        terms at positions ``start``, ``start + 1``… in a positions or frequency field."""
        encoded = self._encoded
        cached = self.cached_positions
        if type(fmt) is Frequency:
            counts: dict[str, int] = {}
            for text in value:
                counts[text] = counts.get(text, 0) + 1
            found = []
            for text, count in counts.items():
                vbytes = encoded.get(-count) if cached else None
                if vbytes is None:
                    vbytes = pack_uint(count)
                    if cached:
                        encoded[-count] = vbytes
                found.append((text, count, vbytes))
            return found
        places: dict[str, list[int]] = {}
        for position, text in enumerate(value, start):
            seen = places.get(text)
            if seen is None:
                places[text] = [position]
            else:
                seen.append(position)
        found = []
        for text, where in places.items():
            if len(where) <= cached:
                key = tuple(where)
                vbytes = encoded.get(key)
                if vbytes is None:
                    vbytes = encoded[key] = fmt.encode(key)
            else:
                vbytes = fmt.encode(where)
            found.append((text, len(where), vbytes))
        return found

    def _flush_segment(self) -> None:
        """Write every term's postings, fields and terms in byte order, as the codec expects."""
        self.perdocwriter.close()
        fieldwriter = self.fieldwriter
        # written in memory first: the codec asks each file's position a few times per term
        restore = [_in_memory(fieldwriter._postfile), _in_memory(fieldwriter._tindex.dbfile)]
        try:
            for fieldname in sorted(self._postings):
                terms = self._postings[fieldname]
                if not terms:
                    continue
                fieldwriter.start_field(fieldname, self.schema[fieldname])
                for tbytes in sorted(terms):
                    fieldwriter.start_term(tbytes)
                    terminfo = self._write_postings(fieldwriter._postwriter, terms[tbytes])
                    # W3FieldWriter.finish_term, with the term's postings already written
                    keybytes = pack_ushort(fieldwriter._fieldid) + tbytes
                    fieldwriter._tindex.add(keybytes, terminfo.to_bytes())
                fieldwriter.finish_field()
        finally:
            self._postings = {}
            for written in restore:
                written()
        fieldwriter.close()

    def _write_postings(self, writer, flat: list):
        """Write ``flat``'s postings through ``writer`` (a ``W3PostingsWriter`` started on a
        term) block by block, as ``add_posting`` once per posting and ``finish_postings`` would;
        return the term's info."""
        limit = writer._blocklimit
        count = len(flat) // 4
        for start in range(0, count, limit):
            end = min(start + limit, count)
            weights = flat[start * 4 + 1 : end * 4 : 4]
            lengths = [length for length in flat[start * 4 + 3 : end * 4 : 4] if length]
            writer._ids = array("I", flat[start * 4 : end * 4 : 4])
            writer._weights = array("f", weights)
            writer._values = [value for value in flat[start * 4 + 2 : end * 4 : 4] if value]
            writer._maxweight = max(0, max(weights))
            writer._minlength = min(lengths) if lengths else None
            writer._maxlength = max(lengths) if lengths else 0
            self._write_block(writer, last=end == count)
        terminfo = writer._terminfo
        terminfo.set_extent(writer._startoffset, writer._postfile.tell() - writer._startoffset)
        writer._terminfo = None
        return terminfo

    def _write_block(self, writer, last: bool) -> None:
        """``W3PostingsWriter._write_block``, leaving blocks shorter than ``compress_from``
        bytes uncompressed."""
        if not writer._blockcount:
            writer._postfile.write(WHOOSH3_HEADER_MAGIC)
        writer._terminfo.add_block(writer)
        data = (writer._mini_ids(), writer._mini_weights(), writer._mini_values())
        databytes = dumps(data, 2)
        comp = writer._compression
        if comp and len(databytes) >= self.compress_from:
            databytes = zlib.compress(databytes, comp)
        else:
            comp = 0
        ids = writer._ids
        infobytes = dumps(
            (
                len(ids),
                ids[-1],
                writer._maxweight,
                comp,
                length_to_byte(writer._minlength),
                length_to_byte(writer._maxlength),
            ),
            2,
        )
        blocklength = len(infobytes) + len(databytes)
        postfile = writer._postfile
        postfile.write_int(-blocklength if last else blocklength)
        postfile.write(infobytes)
        postfile.write(databytes)
        writer._blockcount += 1
        writer._new_block()


def _in_memory(structfile):
    """Point ``structfile`` (a Whoosh ``StructFile`` over a file being written) at memory, as if
    what its file holds so far were there; return what writes everything since to the file and
    points ``structfile`` back at it."""
    real = structfile.file
    start = real.tell()
    memory = io.BytesIO()
    memory.seek(start)  # positions count from the file's start; the gap is never written out
    structfile.file = memory

    def write_out() -> None:
        structfile.file = real
        real.write(memory.getbuffer()[start:])

    return write_out
