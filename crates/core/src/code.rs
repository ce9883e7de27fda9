//! NCBI genetic codes.
//!
//! All translation tables that NCBI defines between 1 and 33 are known (7, 8 and 17–20
//! do not exist). Codons are indexed by base codes as `16*b1 + 4*b2 + b3` with
//! A=0, C=1, G=2, T=3; index 64 stands for any codon holding an N.

use crate::dna::Base;

/// Amino acids per table in NCBI order (bases T, C, A, G); `*` is a stop.
const TABLES: &[(u8, &str, &str)] = &[
    (
        1,
        "Standard",
        "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    (
        2,
        "Vertebrate Mitochondrial",
        "FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIMMTTTTNNKKSS**VVVVAAAADDEEGGGG",
    ),
    (
        3,
        "Yeast Mitochondrial",
        "FFLLSSSSYY**CCWWTTTTPPPPHHQQRRRRIIMMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    (
        4,
        "Mold, Protozoan, Coelenterate Mitochondrial; Mycoplasma/Spiroplasma",
        "FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    (
        5,
        "Invertebrate Mitochondrial",
        "FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIMMTTTTNNKKSSSSVVVVAAAADDEEGGGG",
    ),
    (
        6,
        "Ciliate, Dasycladacean and Hexamita Nuclear",
        "FFLLSSSSYYQQCC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    (
        9,
        "Echinoderm and Flatworm Mitochondrial",
        "FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIIMTTTTNNNKSSSSVVVVAAAADDEEGGGG",
    ),
    (
        10,
        "Euplotid Nuclear",
        "FFLLSSSSYY**CCCWLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    (
        11,
        "Bacterial, Archaeal and Plant Plastid",
        "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    (
        12,
        "Alternative Yeast Nuclear",
        "FFLLSSSSYY**CC*WLLLSPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    (
        13,
        "Ascidian Mitochondrial",
        "FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIMMTTTTNNKKSSGGVVVVAAAADDEEGGGG",
    ),
    (
        14,
        "Alternative Flatworm Mitochondrial",
        "FFLLSSSSYYY*CCWWLLLLPPPPHHQQRRRRIIIMTTTTNNNKSSSSVVVVAAAADDEEGGGG",
    ),
    (
        15,
        "Blepharisma Macronuclear",
        "FFLLSSSSYY*QCC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    (
        16,
        "Chlorophycean Mitochondrial",
        "FFLLSSSSYY*LCC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    (
        21,
        "Trematode Mitochondrial",
        "FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIMMTTTTNNNKSSSSVVVVAAAADDEEGGGG",
    ),
    (
        22,
        "Scenedesmus obliquus Mitochondrial",
        "FFLLSS*SYY*LCC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    (
        23,
        "Thraustochytrium Mitochondrial",
        "FF*LSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    (
        24,
        "Rhabdopleuridae Mitochondrial",
        "FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSSKVVVVAAAADDEEGGGG",
    ),
    (
        25,
        "Candidate Division SR1 and Gracilibacteria",
        "FFLLSSSSYY**CCGWLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    (
        26,
        "Pachysolen tannophilus Nuclear",
        "FFLLSSSSYY**CC*WLLLAPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    (
        27,
        "Karyorelict Nuclear",
        "FFLLSSSSYYQQCCWWLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    (
        28,
        "Condylostoma Nuclear",
        "FFLLSSSSYYQQCCWWLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    (
        29,
        "Mesodinium Nuclear",
        "FFLLSSSSYYYYCC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    (
        30,
        "Peritrich Nuclear",
        "FFLLSSSSYYEECC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    (
        31,
        "Blastocrithidia Nuclear",
        "FFLLSSSSYYEECCWWLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    (
        32,
        "Balanophoraceae Plastid",
        "FFLLSSSSYY*WCC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    (
        33,
        "Cephalodiscidae Mitochondrial",
        "FFLLSSSSYYY*CCWWLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSSKVVVVAAAADDEEGGGG",
    ),
];

/// Index of a codon holding an N.
pub const N_CODON: usize = 64;

/// A table number that NCBI does not define.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown genetic code {0}: known tables are {known}", known = known_list())]
pub struct UnknownTable(pub u32);

fn known_list() -> String {
    TABLES
        .iter()
        .map(|t| t.0.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The number of an NCBI translation table that is known to exist: parsed once where a
/// table enters the program (command line, request, recipe, dataset file) and passed
/// as this value everywhere after, so an unknown number cannot reach the model.
/// Serialised as the plain number; deserialising an unknown number is an error.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "u32", into = "u32")]
pub struct TableId(u8);

impl TableId {
    /// Table 11, bacteria, archaea and plant plastids.
    pub const BACTERIAL: TableId = TableId::known(11);

    /// A table number checked when the program is compiled (use in constants:
    /// an unknown number fails the build).
    pub const fn known(id: u8) -> TableId {
        let mut i = 0;
        while i < TABLES.len() {
            if TABLES[i].0 == id {
                return TableId(id);
            }
            i += 1;
        }
        panic!("not an NCBI genetic code")
    }

    /// Validates a table number.
    pub fn new(id: u32) -> Result<TableId, UnknownTable> {
        TABLES
            .iter()
            .find(|t| t.0 as u32 == id)
            .map(|t| TableId(t.0))
            .ok_or(UnknownTable(id))
    }

    /// The table number.
    pub fn get(self) -> u32 {
        self.0 as u32
    }

    /// The genetic code of this table.
    pub fn code(self) -> GeneticCode {
        GeneticCode::new(self.get()).expect("a TableId is a known table")
    }
}

impl std::fmt::Display for TableId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for TableId {
    type Err = String;
    fn from_str(s: &str) -> Result<TableId, String> {
        let n: u32 = s
            .trim()
            .parse()
            .map_err(|_| format!("not a genetic code number: {s:?}"))?;
        TableId::new(n).map_err(|e| e.to_string())
    }
}

impl TryFrom<u32> for TableId {
    type Error = UnknownTable;
    fn try_from(id: u32) -> Result<TableId, UnknownTable> {
        TableId::new(id)
    }
}

impl From<TableId> for u32 {
    fn from(t: TableId) -> u32 {
        t.get()
    }
}

/// A genetic code: which amino acid each of the 64 codons encodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneticCode {
    id: u8,
    name: &'static str,
    /// Amino acid per codon index (our A,C,G,T order); `*` for stop; index 64 is `X`.
    aa: [u8; 65],
}

/// Our base code (A=0,C=1,G=2,T=3) to NCBI's position (T=0,C=1,A=2,G=3).
const NCBI_POS: [usize; 4] = [2, 1, 3, 0];

impl GeneticCode {
    /// Looks up an NCBI table by number.
    pub fn new(id: u32) -> Result<GeneticCode, UnknownTable> {
        let &(tid, name, aas) = TABLES
            .iter()
            .find(|t| t.0 as u32 == id)
            .ok_or(UnknownTable(id))?;
        let ncbi = aas.as_bytes();
        let mut aa = [b'X'; 65];
        for (c, slot) in aa.iter_mut().enumerate().take(64) {
            let (b1, b2, b3) = (c / 16, (c / 4) % 4, c % 4);
            *slot = ncbi[16 * NCBI_POS[b1] + 4 * NCBI_POS[b2] + NCBI_POS[b3]];
        }
        Ok(GeneticCode { id: tid, name, aa })
    }

    /// The standard bacterial/archaeal code, table 11.
    pub fn bacterial() -> GeneticCode {
        GeneticCode::new(11).expect("table 11 is in TABLES")
    }

    /// All table numbers known.
    pub fn known_ids() -> impl Iterator<Item = u32> {
        TABLES.iter().map(|t| t.0 as u32)
    }

    /// NCBI table number.
    pub fn id(&self) -> u32 {
        self.id as u32
    }

    /// The validated table number.
    pub fn table(&self) -> TableId {
        TableId(self.id)
    }

    /// NCBI name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Amino acid of a codon index (0..=64), `*` for stop, `X` for a codon with N.
    #[inline]
    pub fn amino_acid(&self, codon: usize) -> u8 {
        self.aa[codon.min(N_CODON)]
    }

    /// Whether a codon index is a stop codon in this code.
    #[inline]
    pub fn is_stop(&self, codon: usize) -> bool {
        self.amino_acid(codon) == b'*'
    }

    /// Maps each codon to a codon of the standard code (11) with the same meaning.
    ///
    /// The model learns codon statistics under table 11; a codon reassigned by this
    /// table (TGA = Trp in table 4) is shown to it as a table-11 synonym (TGG). Stops
    /// map to the table-11 stop TAA, so their meaning also travels. Codons with N map
    /// to [`N_CODON`].
    pub fn synonym_map(&self) -> [u8; 65] {
        let std = GeneticCode::bacterial();
        let mut map = [0u8; 65];
        for (c, slot) in map.iter_mut().enumerate().take(64) {
            let aa = self.aa[c];
            *slot = if std.aa[c] == aa {
                c as u8
            } else {
                // First table-11 codon with this meaning (TAA=48 for stops).
                (0..64).find(|&d| std.aa[d] == aa).unwrap_or(c) as u8
            };
        }
        map[N_CODON] = N_CODON as u8;
        map
    }
}

/// Codon index of three base codes; [`N_CODON`] when any is N.
#[inline]
pub fn codon_index(b: &[Base]) -> usize {
    if b[0] | b[1] | b[2] > 3 {
        N_CODON
    } else {
        16 * b[0] as usize + 4 * b[1] as usize + b[2] as usize
    }
}

/// Translates base codes from `offset` over full codons.
pub fn translate(codes: &[Base], offset: usize, code: &GeneticCode) -> String {
    codes
        .get(offset..)
        .unwrap_or(&[])
        .chunks_exact(3)
        .map(|c| code.amino_acid(codon_index(c)) as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dna::DnaSeq;

    fn idx(s: &str) -> usize {
        codon_index(DnaSeq::from_ascii(s.as_bytes()).unwrap().codes())
    }

    #[test]
    fn table_ids_are_checked_once() {
        assert_eq!(TableId::new(11), Ok(TableId::BACTERIAL));
        assert_eq!(TableId::new(4).unwrap().code().id(), 4);
        for bad in [0, 7, 8, 17, 20, 34, 255, 256, u32::MAX] {
            assert_eq!(TableId::new(bad), Err(UnknownTable(bad)), "{bad}");
        }
        assert_eq!("25".parse::<TableId>(), Ok(TableId::known(25)));
        assert!("7"
            .parse::<TableId>()
            .unwrap_err()
            .contains("unknown genetic code 7"));
        assert!("x".parse::<TableId>().is_err());
        assert_eq!(GeneticCode::new(15).unwrap().table().get(), 15);
        let all: Vec<u32> = GeneticCode::known_ids().collect();
        assert!(all.iter().all(|&t| TableId::new(t).unwrap().get() == t));
    }

    #[test]
    fn stops_and_reassignments() {
        let t11 = GeneticCode::new(11).unwrap();
        for s in ["TAA", "TAG", "TGA"] {
            assert!(t11.is_stop(idx(s)), "{s}");
        }
        assert_eq!(t11.amino_acid(idx("ATG")), b'M');
        assert_eq!(t11.amino_acid(idx("GCC")), b'A');
        let t4 = GeneticCode::new(4).unwrap();
        assert_eq!(t4.amino_acid(idx("TGA")), b'W');
        assert_eq!(t4.synonym_map()[idx("TGA")] as usize, idx("TGG"));
        let t15 = GeneticCode::new(15).unwrap();
        assert_eq!(t15.amino_acid(idx("TAG")), b'Q');
        assert!(t15.is_stop(idx("TAA")));
        let t25 = GeneticCode::new(25).unwrap();
        assert_eq!(t25.amino_acid(idx("TGA")), b'G');
        assert_eq!(t11.synonym_map()[idx("TGA")] as usize, idx("TGA"));
        assert_eq!(t11.amino_acid(N_CODON), b'X');
    }

    #[test]
    fn known_tables() {
        let ids: Vec<u32> = GeneticCode::known_ids().collect();
        assert_eq!(ids.len(), 27);
        for bad in [0, 7, 8, 17, 18, 19, 20, 34] {
            assert_eq!(GeneticCode::new(bad).unwrap_err(), UnknownTable(bad));
        }
        for id in ids {
            let c = GeneticCode::new(id).unwrap();
            assert!(c.aa[..64]
                .iter()
                .all(|a| a.is_ascii_uppercase() || *a == b'*'));
        }
    }

    #[test]
    fn translation() {
        let s = DnaSeq::from_ascii(b"CATGGCCTGAN").unwrap();
        assert_eq!(translate(s.codes(), 1, &GeneticCode::bacterial()), "MA*");
        assert_eq!(
            translate(s.codes(), 1, &GeneticCode::new(4).unwrap()),
            "MAW"
        );
        assert_eq!(translate(s.codes(), 2, &GeneticCode::bacterial()), "WPX");
    }
}
