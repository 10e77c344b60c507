//! The Kubernetes quantity CEL library (`quantity`, `isQuantity` and the `kubernetes.Quantity`
//! members), with quantities parsed as `resource.ParseQuantity` parses them and compared
//! exactly.
//! <https://kubernetes.io/docs/reference/using-api/cel/#kubernetes-quantity-library>

use super::{cel_value, error, int, take_args};
use cel::common::types::{CelBool, CelDouble, CelInt};
use cel::common::types::{Type, INT_TYPE, STRING_TYPE};
use cel::common::value::{CowVal, Val};
use cel::objects::Opaque;
use cel::{DeclarationError, Env, ExecutionError, Value};
use num_bigint::BigInt;
use num_traits::{ToPrimitive, Zero};
use std::sync::Arc;

/// The CEL type name Kubernetes gives quantities.
const TYPE_NAME: &str = "kubernetes.Quantity";

/// An exact quantity, as a whole number of nano-units (every parsed quantity is one: the
/// parser rounds up to 1n).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity {
    nanos: BigInt,
}

impl Opaque for Quantity {
    fn runtime_type_name(&self) -> &str {
        TYPE_NAME
    }
}

/// Why a string is not a quantity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuantityError {
    Empty,
    /// Not `[+-]digits[.digits][suffix]`.
    Format,
    /// A suffix that is neither SI, binary SI, nor an exponent.
    Suffix(String),
    /// An exponent beyond what this implementation represents (see docs/evaluation.md).
    TooLarge,
}

impl std::fmt::Display for QuantityError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QuantityError::Empty => f.write_str("a quantity cannot be empty"),
            QuantityError::Format => f.write_str(
                "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            ),
            QuantityError::Suffix(suffix) => write!(f, "unknown quantity suffix `{suffix}`"),
            QuantityError::TooLarge => f.write_str("the quantity exponent is too large"),
        }
    }
}

const NANOS_PER_UNIT: i64 = 1_000_000_000;
/// Decimal exponents beyond this are refused rather than expanded (10^4000 has no use in a
/// guardrail, and expanding `1e2147483647` would exhaust memory).
const LARGEST_DECIMAL_EXPONENT: i64 = 4000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Base {
    Ten,
    Two,
}

impl Quantity {
    /// Parses `text` as `resource.ParseQuantity` does, including its two representations:
    /// a value it can hold in an `int64` with a scale is kept exactly; any other is rounded
    /// up to the nano and capped at 2^63-1.
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        if text.is_empty() {
            return Err(QuantityError::Empty);
        }
        let parts = split_quantity(text)?;
        let (base, exponent) = interpret_suffix(parts.suffix)?;
        let digits = format!("{}{}", parts.whole, parts.fraction);
        let mantissa: BigInt = digits
            .parse()
            .expect("split_quantity only yields ASCII digits, and never none");
        if mantissa.is_zero() {
            return Ok(Quantity::zero());
        }
        let fraction_len = parts.fraction.len() as i64;
        let magnitude = if fits_int64_amount(&parts, base, exponent) {
            exact_nanos(&mantissa, base, exponent, fraction_len)?
        } else {
            rounded_capped_nanos(&mantissa, base, exponent, fraction_len)
        };
        Ok(Quantity {
            nanos: if parts.negative {
                -magnitude
            } else {
                magnitude
            },
        })
    }

    pub fn zero() -> Quantity {
        Quantity {
            nanos: BigInt::zero(),
        }
    }

    pub fn from_units(units: i64) -> Quantity {
        Quantity {
            nanos: BigInt::from(units) * NANOS_PER_UNIT,
        }
    }

    pub fn sign(&self) -> i64 {
        match self.nanos.sign() {
            num_bigint::Sign::Minus => -1,
            num_bigint::Sign::NoSign => 0,
            num_bigint::Sign::Plus => 1,
        }
    }

    /// The value as a whole `int64`, if it is one.
    pub fn as_integer(&self) -> Option<i64> {
        let whole = &self.nanos / NANOS_PER_UNIT;
        let exact = (&self.nanos % NANOS_PER_UNIT).is_zero();
        exact.then(|| whole.to_i64()).flatten()
    }

    pub fn as_approximate_float(&self) -> f64 {
        self.nanos.to_f64().unwrap_or(f64::NAN) / NANOS_PER_UNIT as f64
    }

    pub fn add(&self, other: &Quantity) -> Quantity {
        Quantity {
            nanos: &self.nanos + &other.nanos,
        }
    }

    pub fn sub(&self, other: &Quantity) -> Quantity {
        Quantity {
            nanos: &self.nanos - &other.nanos,
        }
    }
}

/// The notation a quantity was written in (`resource.Format`), which its canonical form keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuantityFormat {
    /// No suffix or an SI suffix (`500m`, `1G`).
    DecimalSi,
    /// A binary suffix (`512Mi`).
    BinarySi,
    /// A decimal exponent (`1e9`).
    DecimalExponent,
}

impl Quantity {
    /// Parses `text` as [`Quantity::parse`] does and reports the notation its suffix
    /// implies, as `resource.ParseQuantity` does.
    pub fn parse_with_format(text: &str) -> Result<(Quantity, QuantityFormat), QuantityError> {
        let quantity = Quantity::parse(text)?;
        // `parse` accepted the text, so its suffix is one of the three kinds.
        let suffix = split_quantity(text)?.suffix;
        let format = match interpret_suffix(suffix)? {
            (Base::Two, _) => QuantityFormat::BinarySi,
            _ if suffix.starts_with(['e', 'E']) && suffix.len() > 1 => {
                QuantityFormat::DecimalExponent
            }
            _ => QuantityFormat::DecimalSi,
        };
        Ok((quantity, format))
    }

    /// The text `resource.Quantity.String()` prints for this value written in `format`
    /// (`CanonicalizeBytes`): trailing zeros move into the largest suffix that keeps the
    /// number whole, `1000m` is `1`, `0.5` is `500m`, `1024Mi` is `1Gi`. A binary quantity
    /// under 1024 or with a fraction prints in decimal SI, as Kubernetes does.
    pub fn canonical(&self, format: QuantityFormat) -> String {
        if self.nanos.is_zero() {
            return "0".to_string();
        }
        let sign = if self.sign() < 0 { "-" } else { "" };
        let magnitude = self.nanos.magnitude().clone();
        let per_unit = num_bigint::BigUint::from(NANOS_PER_UNIT as u64);
        let whole = (&magnitude % &per_unit).is_zero();
        let binary =
            format == QuantityFormat::BinarySi && whole && magnitude >= &per_unit * 1024u32;
        if binary {
            let mut units = magnitude / per_unit;
            let mut power = 0;
            while power < BINARY_SUFFIXES.len() - 1 && (&units % 1024u32).is_zero() {
                units /= 1024u32;
                power += 1;
            }
            return format!("{sign}{units}{}", BINARY_SUFFIXES[power]);
        }
        let mut amount = magnitude;
        let mut exponent: i64 = -9;
        while (&amount % 10u32).is_zero() {
            amount /= 10u32;
            exponent += 1;
        }
        // Kubernetes lowers the exponent to a multiple of three, growing the number.
        let excess = exponent.rem_euclid(3);
        amount *= 10u32.pow(excess as u32);
        exponent -= excess;
        let suffix = match format {
            QuantityFormat::DecimalExponent if exponent == 0 => String::new(),
            QuantityFormat::DecimalExponent => format!("e{exponent}"),
            _ => decimal_si_suffix(exponent)
                .map(str::to_string)
                .unwrap_or_else(|| format!("e{exponent}")),
        };
        format!("{sign}{amount}{suffix}")
    }
}

/// `""`, `Ki` … `Ei`: the suffix of each power of 1024.
const BINARY_SUFFIXES: [&str; 7] = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

/// The SI suffix of a power of ten that is a multiple of three, from nano to exa.
fn decimal_si_suffix(exponent: i64) -> Option<&'static str> {
    Some(match exponent {
        -9 => "n",
        -6 => "u",
        -3 => "m",
        0 => "",
        3 => "k",
        6 => "M",
        9 => "G",
        12 => "T",
        15 => "P",
        18 => "E",
        _ => return None,
    })
}

/// The pieces of `[+-]digits[.digits]suffix`, leading zeros of the whole part dropped.
struct QuantityParts<'t> {
    negative: bool,
    whole: &'t str,
    fraction: &'t str,
    suffix: &'t str,
}

/// Splits `text` the way `parseQuantityString` does, quirks included: a bare sign or `.`
/// is zero, and `1.G` is accepted.
fn split_quantity(text: &str) -> Result<QuantityParts<'_>, QuantityError> {
    let (negative, rest) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let rest = rest.trim_start_matches('0');
    let whole_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (whole, rest) = rest.split_at(whole_len);
    let (fraction, suffix) = match rest.strip_prefix('.') {
        Some(after_dot) => {
            let len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
            after_dot.split_at(len)
        }
        None => ("", rest),
    };
    let letters = suffix
        .bytes()
        .take_while(|b| b"eEinumkKMGTP".contains(b))
        .count();
    let after_letters = &suffix[letters..];
    let after_sign = after_letters
        .strip_prefix(['+', '-'])
        .unwrap_or(after_letters);
    if !after_sign.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QuantityError::Format);
    }
    Ok(QuantityParts {
        negative,
        whole: if whole.is_empty() { "0" } else { whole },
        fraction,
        suffix,
    })
}

fn interpret_suffix(suffix: &str) -> Result<(Base, i64), QuantityError> {
    let known = match suffix {
        "" => Some((Base::Ten, 0)),
        "n" => Some((Base::Ten, -9)),
        "u" => Some((Base::Ten, -6)),
        "m" => Some((Base::Ten, -3)),
        "k" => Some((Base::Ten, 3)),
        "M" => Some((Base::Ten, 6)),
        "G" => Some((Base::Ten, 9)),
        "T" => Some((Base::Ten, 12)),
        "P" => Some((Base::Ten, 15)),
        "E" => Some((Base::Ten, 18)),
        "Ki" => Some((Base::Two, 10)),
        "Mi" => Some((Base::Two, 20)),
        "Gi" => Some((Base::Two, 30)),
        "Ti" => Some((Base::Two, 40)),
        "Pi" => Some((Base::Two, 50)),
        "Ei" => Some((Base::Two, 60)),
        _ => None,
    };
    if let Some(known) = known {
        return Ok(known);
    }
    let exponent = suffix
        .strip_prefix(['e', 'E'])
        .filter(|digits| !digits.is_empty())
        .ok_or_else(|| QuantityError::Suffix(suffix.to_string()))?;
    // Kubernetes narrows the exponent to an int32; one that does not fit is refused here.
    let exponent: i32 = exponent
        .parse()
        .map_err(|_| QuantityError::Suffix(suffix.to_string()))?;
    Ok((Base::Ten, i64::from(exponent)))
}

/// Whether `ParseQuantity` keeps the value in its exact `int64Amount` form (its "fast path"),
/// which is neither rounded nor capped.
fn fits_int64_amount(parts: &QuantityParts<'_>, base: Base, exponent: i64) -> bool {
    // Precision is counted on the digits as written, leading zeros stripped (a whole part
    // of only zeros counts as the one digit `0`).
    let whole_digits = parts.whole.len() as i64;
    match base {
        Base::Ten => {
            let written = whole_digits + parts.fraction.len() as i64;
            written <= 18 && exponent - parts.fraction.len() as i64 >= -9
        }
        Base::Two => {
            // 2^10 holds about 3 decimal digits: Kubernetes estimates exponent*3/10.
            let precision = 15 - whole_digits - exponent * 3 / 10 - 1;
            if !parts.fraction.is_empty() || precision < 0 {
                return false;
            }
            let value: i64 = match parts.whole.parse() {
                Ok(value) => value,
                Err(_) => return false,
            };
            value.checked_mul(1i64 << exponent).is_some()
        }
    }
}

/// The exact value in nanos of a fast-path quantity.
fn exact_nanos(
    mantissa: &BigInt,
    base: Base,
    exponent: i64,
    fraction_len: i64,
) -> Result<BigInt, QuantityError> {
    Ok(match base {
        Base::Two => (mantissa << exponent as usize) * NANOS_PER_UNIT,
        Base::Ten => {
            let shift = exponent - fraction_len + 9;
            if shift > LARGEST_DECIMAL_EXPONENT {
                return Err(QuantityError::TooLarge);
            }
            // The fast path requires exponent - fraction_len >= -9, so shift >= 0.
            mantissa * BigInt::from(10).pow(shift as u32)
        }
    })
}

/// The value in nanos of a slow-path quantity: rounded away from zero to the nano, and
/// capped at 2^63-1 units, as `ParseQuantity` does.
fn rounded_capped_nanos(mantissa: &BigInt, base: Base, exponent: i64, fraction_len: i64) -> BigInt {
    let cap = BigInt::from(i64::MAX) * NANOS_PER_UNIT;
    let (scaled, ten_power) = match base {
        Base::Two => (mantissa << exponent as usize, 9 - fraction_len),
        Base::Ten => (mantissa.clone(), exponent - fraction_len + 9),
    };
    let nanos = if ten_power >= 0 {
        // 10^28 nanos already exceed the cap, whatever the (non-zero) mantissa.
        if ten_power >= 28 {
            return cap;
        }
        scaled * BigInt::from(10).pow(ten_power as u32)
    } else {
        let divisor_digits = -ten_power;
        if divisor_digits > scaled.to_string().len() as i64 + 1 {
            // Smaller than a nano but not zero: Kubernetes rounds it up to 1n.
            BigInt::from(1)
        } else {
            let divisor = BigInt::from(10).pow(divisor_digits as u32);
            let quotient = &scaled / &divisor;
            if (&scaled % &divisor).is_zero() {
                quotient
            } else {
                quotient + 1
            }
        }
    };
    nanos.min(cap)
}

fn quantity_type() -> Type {
    Type::new_opaque_type(TYPE_NAME)
}

/// The quantity an argument holds, or the error Kubernetes gives for a value that is not one.
fn quantity_arg(arg: &dyn Val) -> Result<Quantity, ExecutionError> {
    if let Ok(Value::Opaque(opaque)) = Value::try_from(arg) {
        if let Some(quantity) = opaque.downcast_ref::<Quantity>() {
            return Ok(quantity.clone());
        }
    }
    Err(ExecutionError::UnexpectedType {
        got: arg.get_type().name().to_string(),
        want: TYPE_NAME.to_string(),
    })
}

fn quantity_value<'b, 'v>(quantity: Quantity) -> Result<CowVal<'b, 'v>, ExecutionError> {
    cel_value(Value::Opaque(Arc::new(quantity)))
}

fn string_arg(arg: &dyn Val) -> Result<String, ExecutionError> {
    match Value::try_from(arg)? {
        Value::String(s) => Ok(s.to_string()),
        _ => Err(ExecutionError::UnexpectedType {
            got: arg.get_type().name().to_string(),
            want: "string".to_string(),
        }),
    }
}

fn quantity_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [text] = take_args(args)?;
    let text = string_arg(&*text)?;
    let quantity = Quantity::parse(&text).map_err(|e| error("quantity", e))?;
    quantity_value(quantity)
}

fn is_quantity<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [text] = take_args(args)?;
    let text = string_arg(&*text)?;
    Ok(CowVal::owned(CelBool::from(Quantity::parse(&text).is_ok())))
}

fn compare_to<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [this, other] = take_args(args)?;
    let ordering = quantity_arg(&*this)?.cmp(&quantity_arg(&*other)?);
    Ok(int(ordering as i64))
}

fn is_less_than<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [this, other] = take_args(args)?;
    let less = quantity_arg(&*this)? < quantity_arg(&*other)?;
    Ok(CowVal::owned(CelBool::from(less)))
}

fn is_greater_than<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [this, other] = take_args(args)?;
    let greater = quantity_arg(&*this)? > quantity_arg(&*other)?;
    Ok(CowVal::owned(CelBool::from(greater)))
}

/// `add` and `sub` take a quantity or a whole number of units.
fn operand(arg: &dyn Val) -> Result<Quantity, ExecutionError> {
    match Value::try_from(arg) {
        Ok(Value::Int(units)) => Ok(Quantity::from_units(units)),
        _ => quantity_arg(arg),
    }
}

fn add<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [this, other] = take_args(args)?;
    quantity_value(quantity_arg(&*this)?.add(&operand(&*other)?))
}

fn sub<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [this, other] = take_args(args)?;
    quantity_value(quantity_arg(&*this)?.sub(&operand(&*other)?))
}

fn sign<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [this] = take_args(args)?;
    Ok(int(quantity_arg(&*this)?.sign()))
}

fn is_integer<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [this] = take_args(args)?;
    let whole = quantity_arg(&*this)?.as_integer().is_some();
    Ok(CowVal::owned(CelBool::from(whole)))
}

fn as_integer<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [this] = take_args(args)?;
    let whole = quantity_arg(&*this)?
        .as_integer()
        .ok_or_else(|| error("asInteger", "cannot convert value to integer"))?;
    Ok(CowVal::owned(CelInt::from(whole)))
}

fn as_approximate_float<'b, 'v>(
    args: Vec<CowVal<'b, 'v>>,
) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [this] = take_args(args)?;
    let float = quantity_arg(&*this)?.as_approximate_float();
    Ok(CowVal::owned(CelDouble::from(float)))
}

/// Registers `quantity`, `isQuantity` and the members of `kubernetes.Quantity`.
pub fn register(env: &mut Env) -> Result<(), DeclarationError> {
    let q = quantity_type;
    env.add_type(q())?;
    env.add_overload(
        "quantity",
        "string_to_quantity",
        vec![STRING_TYPE],
        quantity_of,
    )?;
    env.add_overload(
        "isQuantity",
        "is_quantity_string",
        vec![STRING_TYPE],
        is_quantity,
    )?;
    env.add_member_overload(
        "compareTo",
        "quantity_compareTo",
        q(),
        vec![q()],
        compare_to,
    )?;
    env.add_member_overload(
        "isLessThan",
        "quantity_isLessThan",
        q(),
        vec![q()],
        is_less_than,
    )?;
    env.add_member_overload(
        "isGreaterThan",
        "quantity_isGreaterThan",
        q(),
        vec![q()],
        is_greater_than,
    )?;
    env.add_member_overload("add", "quantity_add", q(), vec![q()], add)?;
    env.add_member_overload("add", "quantity_add_int", q(), vec![INT_TYPE], add)?;
    env.add_member_overload("sub", "quantity_sub", q(), vec![q()], sub)?;
    env.add_member_overload("sub", "quantity_sub_int", q(), vec![INT_TYPE], sub)?;
    env.add_member_overload("sign", "quantity_sign", q(), vec![], sign)?;
    env.add_member_overload("isInteger", "quantity_isInteger", q(), vec![], is_integer)?;
    env.add_member_overload("asInteger", "quantity_asInteger", q(), vec![], as_integer)?;
    env.add_member_overload(
        "asApproximateFloat",
        "quantity_asApproximateFloat",
        q(),
        vec![],
        as_approximate_float,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nanos(text: &str) -> BigInt {
        Quantity::parse(text)
            .unwrap_or_else(|e| panic!("`{text}` should parse: {e}"))
            .nanos
    }

    fn units(n: i64) -> BigInt {
        BigInt::from(n) * NANOS_PER_UNIT
    }

    #[test]
    fn binary_suffixes_are_powers_of_two() {
        assert_eq!(nanos("1Gi"), units(1_073_741_824));
        assert_eq!(nanos("1Ki"), units(1024));
        assert_eq!(nanos("1.5Gi"), units(1_610_612_736));
    }

    #[test]
    fn decimal_suffixes_are_powers_of_ten() {
        assert_eq!(nanos("500m"), BigInt::from(500_000_000));
        assert_eq!(nanos("1k"), units(1000));
        assert_eq!(nanos("2G"), units(2_000_000_000));
        assert_eq!(nanos("3n"), BigInt::from(3));
        assert_eq!(nanos("7u"), BigInt::from(7000));
    }

    #[test]
    fn exponents_and_signs() {
        assert_eq!(nanos("1e3"), nanos("1k"));
        assert_eq!(nanos("1E3"), nanos("1k"));
        assert_eq!(nanos("1e-3"), nanos("1m"));
        assert_eq!(nanos("-1.5"), -units(1) - BigInt::from(500_000_000));
        assert_eq!(nanos("+2"), units(2));
    }

    #[test]
    fn kubernetes_quirks() {
        // A bare sign or dot is zero, and a trailing dot is accepted (`1.G`).
        assert_eq!(nanos("-"), BigInt::zero());
        assert_eq!(nanos("."), BigInt::zero());
        assert_eq!(nanos("1.G"), units(1_000_000_000));
        // `E` alone is exa, not an exponent.
        assert_eq!(nanos("1E"), units(1_000_000_000_000_000_000));
    }

    #[test]
    fn rounds_up_below_a_nano() {
        // 0.1n is not representable: ParseQuantity rounds it away from zero to 1n.
        assert_eq!(nanos("0.1n"), BigInt::from(1));
        assert_eq!(nanos("-0.1n"), BigInt::from(-1));
        assert_eq!(nanos("1e-20"), BigInt::from(1));
        assert_eq!(nanos("1.0000000001"), units(1) + 1);
    }

    #[test]
    fn caps_only_on_the_slow_path() {
        // 2^63 does not fit an int64: capped to 2^63-1.
        assert_eq!(nanos("8Ei"), units(i64::MAX));
        assert_eq!(nanos("9223372036854775808"), units(i64::MAX));
        // 10E is kept exactly as 10 * 10^18 by the int64-with-scale form.
        assert_eq!(nanos("10E"), units(10) * BigInt::from(10).pow(18));
    }

    #[test]
    fn rejects_what_kubernetes_rejects() {
        assert_eq!(Quantity::parse(""), Err(QuantityError::Empty));
        assert_eq!(
            Quantity::parse("1K"),
            Err(QuantityError::Suffix("K".into()))
        );
        assert_eq!(
            Quantity::parse("1ki"),
            Err(QuantityError::Suffix("ki".into()))
        );
        assert_eq!(
            Quantity::parse("1e"),
            Err(QuantityError::Suffix("e".into()))
        );
        assert_eq!(Quantity::parse("abc"), Err(QuantityError::Format));
        assert_eq!(Quantity::parse("1.5.5"), Err(QuantityError::Format));
        assert_eq!(Quantity::parse("1 Gi"), Err(QuantityError::Format));
    }

    #[test]
    fn compares_exactly() {
        let q = |t: &str| Quantity::parse(t).expect("valid in test");
        assert!(q("500m") < q("1"));
        assert!(q("2Gi") > q("2G"));
        assert_eq!(q("1e3"), q("1k"));
        assert_eq!(q("1000m"), q("1"));
        // Differ only in the last nano: floats could not tell them apart.
        assert!(q("9223372036.854775806") < q("9223372036.854775807"));
    }

    /// The canonical text of `text`, as the API server stores and re-encodes it.
    fn canonical(text: &str) -> String {
        let (quantity, format) = Quantity::parse_with_format(text)
            .unwrap_or_else(|e| panic!("`{text}` should parse: {e}"));
        quantity.canonical(format)
    }

    #[test]
    fn canonical_form_moves_decimal_zeros_into_the_suffix() {
        // engine-facts/README.md section 7 and apiserver-encoding.json cases 06, 07, 17.
        assert_eq!(canonical("0.5"), "500m");
        assert_eq!(canonical("1000m"), "1");
        assert_eq!(canonical("2.0"), "2");
        assert_eq!(canonical("1000000000"), "1G");
        assert_eq!(canonical("0.1"), "100m");
        assert_eq!(canonical("0.25"), "250m");
        assert_eq!(canonical("8589934592"), "8589934592");
        assert_eq!(canonical("128974848"), "128974848");
        // Already canonical: unchanged.
        for text in ["500m", "100m", "1G", "100M", "1", "256Mi", "1Gi"] {
            assert_eq!(canonical(text), text);
        }
    }

    #[test]
    fn canonical_form_keeps_the_binary_notation() {
        assert_eq!(canonical("1024Mi"), "1Gi");
        assert_eq!(canonical("0.5Gi"), "512Mi");
        assert_eq!(canonical("1.5Gi"), "1536Mi");
        assert_eq!(canonical("2048Ki"), "2Mi");
        // Under 1024, or not whole: printed in decimal SI (CanonicalizeBytes).
        assert_eq!(canonical("0.5Ki"), "512");
        assert_eq!(canonical("1.5Ki"), "1536");
        assert_eq!(canonical("1000Ki"), "1000Ki");
        assert_eq!(canonical("1.5"), "1500m");
    }

    #[test]
    fn canonical_form_keeps_the_exponent_notation() {
        // The string "1e9" stays "1e9" (README section 7), and so does what reduces to it.
        assert_eq!(canonical("1e9"), "1e9");
        assert_eq!(canonical("1000e6"), "1e9");
        assert_eq!(canonical("1.5e3"), "1500");
        assert_eq!(canonical("1E3"), "1e3");
        // `E` alone is exa, an SI suffix.
        assert_eq!(canonical("1E"), "1E");
    }

    #[test]
    fn canonical_form_of_zero_and_negatives() {
        assert_eq!(canonical("0"), "0");
        assert_eq!(canonical("0Gi"), "0");
        assert_eq!(canonical("-0.5"), "-500m");
        assert_eq!(canonical("-1024Mi"), "-1Gi");
    }

    #[test]
    fn integer_views() {
        let q = |t: &str| Quantity::parse(t).expect("valid in test");
        assert_eq!(q("1k").as_integer(), Some(1000));
        assert_eq!(q("1500m").as_integer(), None);
        assert_eq!(q("10E").as_integer(), None);
        assert_eq!(q("-3").sign(), -1);
        assert_eq!(q("0").sign(), 0);
        assert_eq!(q("1500m").as_approximate_float(), 1.5);
    }
}
